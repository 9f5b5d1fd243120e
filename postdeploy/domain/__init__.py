"""Pure rules of post-deployment support: values in, values out, no IO and no frameworks."""
