"""luister's multilingual models: texts in, predictions and embeddings out.

Knows nothing of Kafka or ClickHouse. One encoder pass per post serves every head (sentiment, intent,
topics); language identification runs beside it. The public entry point is
:class:`models.classifier.Classifier`.
"""
