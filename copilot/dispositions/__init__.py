"""Dispositions: the draft an official approves, and the work order it becomes."""
