"""Physics-informed neural-network studies: eikonal traveltimes and tomography, 1-D velocity from picks,
antiplane fault deformation (METHODS.md section 4)."""
