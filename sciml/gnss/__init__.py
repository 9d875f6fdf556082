"""GNSS velocities: readers (PBO, NorCal, UNR, CMM4, MIDAS, CSV), plate-rotation removal, strain rates
by PILM with ABIC-chosen regularisation, the GMT gpsgridder baseline, synthetic fields and figures."""
