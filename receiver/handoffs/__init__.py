"""Handoffs: notes for the next shift and the briefing sent when shifts change hands."""
