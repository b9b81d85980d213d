"""Exams: scheduling, sections, randomised papers, timed attempts with autosave, results."""
