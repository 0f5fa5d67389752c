"""Periodic work: the task functions, and the two ways to run them
(procrastinate workers on PostgreSQL, an in-process scheduler on SQLite)."""
