"""``make bench``: nowaki's performance harness, side by side with floors measured in the same run."""
