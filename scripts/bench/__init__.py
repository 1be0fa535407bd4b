"""`make bench`: the fleet under a real HTTP load generator (wrk), compared with a
minimal FastAPI app on the same machine in the same run. See `main.py`."""
