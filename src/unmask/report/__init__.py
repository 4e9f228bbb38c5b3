"""Writers: JSON, CSV timelines, HTML. They read results and compute nothing new."""
