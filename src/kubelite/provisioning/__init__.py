"""Node provisioning across cloud providers with cost optimisation."""
