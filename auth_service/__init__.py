"""auth_service: login, access and refresh tokens, signing keys."""
