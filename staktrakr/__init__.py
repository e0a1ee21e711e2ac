"""staktrakr: scrape bullion dealers, fetch spot and Goldback rates, publish a static JSON API."""

__version__ = "0.1.0"
