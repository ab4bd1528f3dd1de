"""Offline Presidio detection, consistent pseudonyms, the erasable vault and leak scanning (step 6)."""
