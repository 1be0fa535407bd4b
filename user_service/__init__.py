"""user_service: accounts, profiles and roles."""
