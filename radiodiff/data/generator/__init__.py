"""data/generator"""
