"""Checking students' answers: safe parsing and comparison with the answer key."""
