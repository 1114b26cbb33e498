"""``python -m diffpose.train`` (and ``torchrun -m diffpose.train``): :func:`diffpose.train.main`."""

from diffpose.train.cli import main

main()
