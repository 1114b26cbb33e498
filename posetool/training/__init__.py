"""Training data from the detector (pseudo-labels, crop priors, crowded composites) and fine-tuning on an analyst's corrections."""
