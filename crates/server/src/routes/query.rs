//! Query strings: the `ApiQuery` extractor (bilingual errors) and each route's query shape, read
//! off the query type itself so the `OpenAPI` document cannot drift from what the handler parses.

use axum::extract::FromRequestParts;
use axum::http::Uri;
use axum::http::request::Parts;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use crate::ApiError;

/// `Query<T>` whose rejections (a limit that is not a number, a flag that is not a boolean) are
/// bilingual [`ApiError`]s like every other error.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::try_from_uri(&parts.uri) {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_query",
                &format!("Tham số truy vấn không hợp lệ: {}", rejection.body_text()),
                &format!("Malformed query parameter: {}", rejection.body_text()),
            )),
        }
    }
}

/// The query parameters a route's handler reads.
#[derive(Debug, Clone, Copy)]
pub struct QueryShape {
    /// The parameter names, in declaration order.
    pub names: fn() -> &'static [&'static str],
    /// Whether a query string (without `?`) parses.
    pub accepts: fn(&str) -> bool,
}

impl QueryShape {
    pub const fn of<T: DeserializeOwned>() -> Self {
        Self {
            names: field_names::<T>,
            accepts: accepts::<T>,
        }
    }
}

fn accepts<T: DeserializeOwned>(query: &str) -> bool {
    Uri::try_from(format!("/?{query}"))
        .is_ok_and(|uri| axum::extract::Query::<T>::try_from_uri(&uri).is_ok())
}

/// The field names serde's derive hands to `deserialize_struct`.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

/// A deserializer that only records the fields a struct asks for, then stops.
struct FieldProbe<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        area: Option<String>,
        limit: Option<u32>,
        #[serde(default)]
        risk: bool,
    }

    #[test]
    fn shape_reads_the_fields_and_parses_like_the_handler() {
        let shape = QueryShape::of::<Sample>();
        assert_eq!((shape.names)(), ["area", "limit", "risk"]);
        assert!((shape.accepts)("area=91&limit=5&risk=true"));
        assert!((shape.accepts)(""));
        assert!(!(shape.accepts)("limit=five"));
        assert!(!(shape.accepts)("risk=maybe"));
    }
}
