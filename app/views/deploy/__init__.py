"""Parts of the Deploy tab: the new-endpoint form and the live metrics chart."""
