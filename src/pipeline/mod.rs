//! Pipeline: wires decode -> reassembly -> http -> detect -> alert for one packet source.
