"""The monthly on-call burden report: load a month, build its figures, render, archive, announce."""
