"""``python -m activities.extract``: the command of the "Extract Spotify" (mode ``discover``) and "Extract Spotify
shard" (mode ``shard``) Custom activities; mode ``all`` (the default) runs discovery, one shard and the manifest."""

from activities.common.entrypoint import run_activity
from activities.extract.run import main

if __name__ == "__main__":
    run_activity("extract", main)
