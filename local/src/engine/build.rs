//! The async-graphql dynamic schema of a [`SchemaModel`](crate::schema::SchemaModel): every type
//! registered, AWS scalars validated, each field wired to its resolver.

use std::sync::Arc;

use async_graphql::dynamic::{
    Enum, Field, InputObject, InputValue, Interface, InterfaceField, Object, Scalar, Schema,
    Subscription, SubscriptionField, TypeRef,
};
use async_graphql::parser::types::{BaseType, FieldDefinition, Type, TypeKind};
use async_graphql::parser::Positioned;

use crate::scalars;
use crate::schema::AWS_SCALARS;

use super::resolve::{field_resolver, subscription_resolver, FieldSite};
use super::Core;

pub(super) fn schema(core: &Arc<Core>) -> Result<Schema, String> {
    let m = &core.model;
    let mut sb = Schema::build(&m.query, m.mutation.as_deref(), m.subscription.as_deref());
    for (name, t) in &m.types {
        match &t.kind {
            TypeKind::Scalar => {
                let n = name.clone();
                let mut s = Scalar::new(name);
                if AWS_SCALARS.contains(&name.as_str()) {
                    s = s.validator(move |v| scalars::valid(&n, v));
                }
                sb = sb.register(s);
            }
            TypeKind::Enum(e) => {
                sb = sb.register(
                    Enum::new(name).items(e.values.iter().map(|v| v.node.value.node.to_string())),
                );
            }
            TypeKind::InputObject(io) => {
                let mut o = InputObject::new(name);
                for f in &io.fields {
                    o = o.field(input_value(&f.node));
                }
                sb = sb.register(o);
            }
            TypeKind::Union(u) => {
                let mut un = async_graphql::dynamic::Union::new(name);
                for p in &u.members {
                    un = un.possible_type(p.node.to_string());
                }
                sb = sb.register(un);
            }
            TypeKind::Interface(i) => {
                let it = i.implements.iter().map(|i| i.node.to_string());
                let it = it.fold(Interface::new(name), Interface::implement);
                let it = fields(core, name, &i.fields, |n, ty, _| InterfaceField::new(n, ty))
                    .map(|(f, args)| args.fold(f, InterfaceField::argument))
                    .fold(it, Interface::field);
                sb = sb.register(it);
            }
            TypeKind::Object(o) if Some(name) == m.subscription.as_ref() => {
                let make = |n, ty, site| SubscriptionField::new(n, ty, subscription_resolver(site));
                let s = fields(core, name, &o.fields, make)
                    .map(|(f, args)| args.fold(f, SubscriptionField::argument))
                    .fold(Subscription::new(name), Subscription::field);
                sb = sb.register(s);
            }
            TypeKind::Object(o) => {
                let obj = o.implements.iter().map(|i| i.node.to_string());
                let obj = obj.fold(Object::new(name), Object::implement);
                let obj = fields(core, name, &o.fields, |n, ty, site| {
                    Field::new(n, ty, field_resolver(site))
                })
                .map(|(f, args)| args.fold(f, Field::argument))
                .fold(obj, Object::field);
                sb = sb.register(obj);
            }
        }
    }
    sb.finish().map_err(|e| format!("schema: {e}"))
}

/// The fields of `type_name`, each made by `make` from its name, type and [`FieldSite`], with
/// its arguments to add.
fn fields<'d, F>(
    core: &'d Arc<Core>,
    type_name: &'d str,
    defs: &'d [Positioned<FieldDefinition>],
    make: impl Fn(String, TypeRef, FieldSite) -> F + 'd,
) -> impl Iterator<Item = (F, impl Iterator<Item = InputValue> + 'd)> + 'd {
    defs.iter().map(move |f| {
        let def = &f.node;
        let site = FieldSite {
            core: core.clone(),
            type_name: type_name.to_owned(),
            field: def.name.node.to_string(),
            ret: def.ty.node.clone(),
        };
        let field = make(site.field.clone(), type_ref(&site.ret), site);
        (field, def.arguments.iter().map(|a| input_value(&a.node)))
    })
}

fn type_ref(ty: &Type) -> TypeRef {
    let base = match &ty.base {
        BaseType::Named(n) => TypeRef::Named(n.to_string().into()),
        BaseType::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
    };
    if ty.nullable {
        base
    } else {
        TypeRef::NonNull(Box::new(base))
    }
}

fn input_value(def: &async_graphql::parser::types::InputValueDefinition) -> InputValue {
    let mut iv = InputValue::new(def.name.node.to_string(), type_ref(&def.ty.node));
    if let Some(d) = &def.default_value {
        iv = iv.default_value(d.node.clone());
    }
    iv
}
