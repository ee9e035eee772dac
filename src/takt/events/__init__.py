"""Reading the event log: per project (pull by cursor) and per subject (an item's history)."""
