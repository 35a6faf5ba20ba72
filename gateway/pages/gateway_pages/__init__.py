"""What the gateway answers itself: JSON error pages and the merged OpenAPI document."""
