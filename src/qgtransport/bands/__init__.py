"""Band data at a batch of k-points: the eigen-decomposition of H(k) and its geometry (velocities,
Berry connection and curvature, quantum metric; `geometry`) and the occupation functions of
energy and temperature (Fermi function, entropy, their derivatives and divided differences;
`occupation`). Uses only `qgtransport.models`."""
