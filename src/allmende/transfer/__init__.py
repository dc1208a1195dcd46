"""transfer domain: the DSP transfer process and access to the data plane."""
