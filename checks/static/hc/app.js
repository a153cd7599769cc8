// hcserver dashboard: progressive enhancements only; every page works without it.
