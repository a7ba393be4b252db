"""File imports (talents, demands, catalogues) run as durable jobs by a worker."""
