"""What every HTTP view shares: authentication, JSON errors, request bodies, health."""
