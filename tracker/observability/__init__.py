"""What the service tells its operators: metrics, request logs, and the doctor's checks."""
