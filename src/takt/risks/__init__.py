"""The risk register: likelihood x impact, severity bands, the 5x5 matrix."""
