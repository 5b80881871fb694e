"""Read queries the API calls: plain SQL over the projections' tables."""
