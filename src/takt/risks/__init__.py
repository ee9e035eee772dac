"""The risk register: likelihood × impact, severity bands, the 5×5 matrix."""
