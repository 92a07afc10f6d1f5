"""The monthly on-call burden report: load the month, build its figures, render, announce."""
