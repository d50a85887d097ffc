"""matcher: credential pathway matching for internationally trained workers."""
