"""The clinical vocabulary, at the bottom of the house: ICD-10 codes and their form,
the condition vocabulary of the rule set, body sites and contraindication answers.

Plain data and pure functions: no models, no Django, nothing above it. Every
layer may read it; it reads nothing of the project's.
"""
