"""Each paper venue's words for the clearinghouse's plain numbers: one module per venue."""
