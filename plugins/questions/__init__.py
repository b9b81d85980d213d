"""The question bank: versioned questions of every type, tags, categories, import/export."""
