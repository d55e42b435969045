"""Each version's serving form beside its artifact (ml.serving_form): a web process loads it without scikit-learn.

Both fields are new and empty for versions trained before: those keep loading their artifact.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0015_prediction_keys_unchecked'),
    ]

    operations = [
        migrations.AddField(
            model_name='modelartifact',
            name='serving',
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='serving_sha256',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
    ]
