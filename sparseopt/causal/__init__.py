"""Linear DAG estimation (CoLiDE, DAGMA)."""

__all__ = []
