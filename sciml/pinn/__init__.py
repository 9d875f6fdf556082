"""Physics-informed neural-network studies: eikonal traveltimes and tomography, 1-D velocity from picks,
antiplane fault deformation (docs/pinn.md; the workflow steps are in :mod:`sciml.studies.pinn`)."""
