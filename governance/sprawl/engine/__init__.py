"""The sprawl engine: pure numerics (scoring, embeddings, savings, quality, catalogue parsing); no ORM."""
