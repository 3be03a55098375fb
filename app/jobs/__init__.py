"""Job specs, the job queue and its transports (local process, SSH). Lands with the job-engine issue."""
