"""What bench-serve serves beside tagloop: reference views on benchmark-only URLs (never in production)."""
