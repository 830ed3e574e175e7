"""`scadafw audit`: what is deployed now, read-only."""
