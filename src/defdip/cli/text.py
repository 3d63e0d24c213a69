"""`defdip code`: coding defence diplomacy from text (see defdip.text)."""
