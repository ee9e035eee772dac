"""Export a whole project as one JSON document, and import such a document as a new project."""
