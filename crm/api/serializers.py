"""Auth payloads: login with a username or an email (seed 003's ``username_or_email``)."""

from django.contrib.auth import authenticate
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.tokens import RefreshToken

from crm.models import User


class LoginSerializer(serializers.Serializer):
    """Accepts ``username_or_email`` (seed 003), ``username`` or ``email``, and ``password``.

    Valid credentials give ``access``/``refresh`` JWTs plus seed 003's ``access_token`` and
    ``token_type``; wrong ones a 401 ``invalid_credentials`` with nothing revealed about which part.
    """

    username_or_email = serializers.CharField(required=False, allow_blank=False)
    username = serializers.CharField(required=False, allow_blank=False)
    email = serializers.CharField(required=False, allow_blank=False)
    password = serializers.CharField(write_only=True, trim_whitespace=False)

    def validate(self, attrs):
        login = attrs.get("username_or_email") or attrs.get("username") or attrs.get("email")
        if not login:
            raise serializers.ValidationError({"username_or_email": ["This field is required."]})
        user = authenticate(self.context.get("request"), username=login, password=attrs["password"])
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid username/email or password.", "invalid_credentials")
        attrs["user"] = user
        return attrs

    def tokens(self) -> dict:
        refresh = RefreshToken.for_user(self.validated_data["user"])
        access = str(refresh.access_token)
        return {"access": access, "refresh": str(refresh), "access_token": access, "token_type": "bearer"}


class UserSerializer(serializers.ModelSerializer):
    """The signed-in user (``/auth/me``) and owners embedded in other resources."""

    name = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "name", "role"]
        read_only_fields = fields
