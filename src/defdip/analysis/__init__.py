"""What is computed from the store: panels and layers, evolution, networks, the conflict model, profiles and
validation.
"""
