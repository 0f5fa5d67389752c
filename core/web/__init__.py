"""HTTP plumbing shared by portal/ and admin/: templates, htmx rendering,
middleware and error pages. Models and services never import this package."""
