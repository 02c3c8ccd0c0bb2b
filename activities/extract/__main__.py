"""``python -m activities.extract``: the command of the "Extract Spotify" Custom activity."""

from activities.common.entrypoint import run_activity
from activities.extract.run import main

if __name__ == "__main__":
    run_activity("extract", main)
