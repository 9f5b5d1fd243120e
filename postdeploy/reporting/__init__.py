"""Report renderers: self-contained HTML, Markdown and CSV, written atomically."""
