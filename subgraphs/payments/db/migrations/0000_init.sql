CREATE SCHEMA IF NOT EXISTS "payments";
--> statement-breakpoint
CREATE TABLE "payments"."payments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"listing_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"amount" integer NOT NULL,
	"currency" varchar(3) NOT NULL,
	"payment_method_id" varchar(255) NOT NULL,
	"status" varchar(20) NOT NULL,
	"client_idempotency_key" varchar(255) NOT NULL,
	"provider_idempotency_key" varchar(255) NOT NULL,
	"provider_reference" varchar(255),
	"decline_code" varchar(100),
	"decline_message" varchar(500),
	"amount_refunded" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"succeeded_at" timestamp (3) with time zone,
	CONSTRAINT "payments_amount_check" CHECK ("payments"."payments"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "payments"."processed_events" (
	"consumer" varchar(100) NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "payments"."refunds" (
	"id" uuid PRIMARY KEY NOT NULL,
	"payment_id" uuid NOT NULL,
	"amount" integer NOT NULL,
	"provider_reference" varchar(255),
	"status" varchar(20) NOT NULL,
	"requested_by" uuid,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payments"."webhook_events" (
	"id" varchar(255) PRIMARY KEY NOT NULL,
	"type" varchar(100) NOT NULL,
	"received_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payments"."refunds" ADD CONSTRAINT "refunds_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "payments"."payments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "payments_user_idempotency_key" ON "payments"."payments" USING btree ("user_id","client_idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_provider_reference_key" ON "payments"."payments" USING btree ("provider_reference");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_one_live_per_listing" ON "payments"."payments" USING btree ("listing_id") WHERE "payments"."payments"."status" in ('PENDING', 'PROCESSING', 'REQUIRES_ACTION', 'SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED');--> statement-breakpoint
CREATE INDEX "payments_listing_created_idx" ON "payments"."payments" USING btree ("listing_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "payments_user_created_idx" ON "payments"."payments" USING btree ("user_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "payments_pending_idx" ON "payments"."payments" USING btree ("status","updated_at") WHERE "payments"."payments"."status" = 'PENDING';--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_provider_reference_key" ON "payments"."refunds" USING btree ("provider_reference");--> statement-breakpoint
CREATE INDEX "refunds_payment_idx" ON "payments"."refunds" USING btree ("payment_id");